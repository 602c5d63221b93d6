#!/usr/bin/python3
"""Independent YOLOX-nano reference for test/inference/yolox.test.ts.

Everything here is OpenCV + numpy, none of it shares code with src/inference: frames come from
cv2.VideoCapture (libavcodec + swscale to bgr24), the letterbox from cv2.resize(INTER_LINEAR) plus
numpy padding, inference from cv2.dnn, NMS from cv2.dnn.NMSBoxes per class. It prints, per chosen frame,
the sha256 of the network input (float32 NCHW, little-endian) and the persons (class 0) as JSON, boxes in
source pixels [x1, y1, x2, y2] clipped to the frame.

Run with Debian's python (python3-opencv, cv2 4.6), from the repo root:
    /usr/bin/python3 scripts/opencv-reference.py [--frames 0,300,600] [--conf 0.3] [--iou 0.45]
"""
import argparse
import hashlib
import json
import os

import cv2
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(ROOT, '..', 'shared')
MODEL = os.path.join(SHARED, 'models', 'yolox_nano.onnx')
VIDEO = os.path.join(SHARED, 'media', 'plaza-pedestrians.mp4')
INPUT = (416, 416)  # (height, width), as the model's input `images`
STRIDES = (8, 16, 32)
PERSON = 0


def read_frames(path, wanted):
    """Reads sequentially (seeking by CAP_PROP_POS_FRAMES is not frame-exact for H.264)."""
    cap = cv2.VideoCapture(path)
    out, n, last = {}, 0, max(wanted)
    while n <= last:
        ok, img = cap.read()
        if not ok:
            raise SystemExit(f'{path}: frame {n} could not be read')
        if n in wanted:
            out[n] = img
        n += 1
    cap.release()
    return out


def letterbox(img):
    """YOLOX's preproc: resize keeping aspect into the top-left corner, pad with 114, HWC -> CHW."""
    h, w = img.shape[:2]
    r = min(INPUT[0] / h, INPUT[1] / w)
    resized = cv2.resize(img, (int(w * r), int(h * r)), interpolation=cv2.INTER_LINEAR)
    padded = np.full((INPUT[0], INPUT[1], 3), 114, dtype=np.uint8)
    padded[: resized.shape[0], : resized.shape[1]] = resized
    return padded.transpose(2, 0, 1)[None].astype(np.float32), r


def decode(raw):
    """Grid decode of the raw head: xy = (xy + grid) * stride, wh = exp(wh) * stride."""
    grids, strides = [], []
    for s in STRIDES:
        hs, ws = INPUT[0] // s, INPUT[1] // s
        xv, yv = np.meshgrid(np.arange(ws), np.arange(hs))
        grids.append(np.stack((xv, yv), 2).reshape(-1, 2))
        strides.append(np.full((hs * ws, 1), s))
    grid = np.concatenate(grids).astype(np.float32)
    stride = np.concatenate(strides).astype(np.float32)
    out = raw.copy()
    out[:, :2] = (out[:, :2] + grid) * stride
    out[:, 2:4] = np.exp(out[:, 2:4]) * stride
    return out


def detect(net, img, conf, iou):
    blob, r = letterbox(img)
    digest = hashlib.sha256(np.ascontiguousarray(blob, dtype='<f4').tobytes()).hexdigest()
    net.setInput(blob, 'images')
    pred = decode(net.forward()[0])
    scores = pred[:, 4:5] * pred[:, 5:]
    cx, cy, bw, bh = (pred[:, i] / r for i in range(4))
    x1, y1 = cx - bw / 2, cy - bh / 2
    h, w = img.shape[:2]
    dets = []
    for cls in range(scores.shape[1]):
        s = scores[:, cls]
        idx = np.nonzero(s > conf)[0]
        if idx.size == 0:
            continue
        rects = [[float(x1[i]), float(y1[i]), float(bw[i]), float(bh[i])] for i in idx]
        keep = cv2.dnn.NMSBoxes(rects, [float(s[i]) for i in idx], conf, iou)
        for k in np.array(keep).reshape(-1):
            i = idx[k]
            box = [
                float(np.clip(x1[i], 0, w)), float(np.clip(y1[i], 0, h)),
                float(np.clip(x1[i] + bw[i], 0, w)), float(np.clip(y1[i] + bh[i], 0, h)),
            ]
            dets.append({'cls': cls, 'score': float(s[i]), 'box': box})
    dets.sort(key=lambda d: -d['score'])
    return dets, digest


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--frames', default='0,300,600')
    ap.add_argument('--conf', type=float, default=0.3)
    ap.add_argument('--iou', type=float, default=0.45)
    args = ap.parse_args()
    wanted = sorted({int(f) for f in args.frames.split(',')})
    net = cv2.dnn.readNetFromONNX(MODEL)
    frames = read_frames(VIDEO, set(wanted))
    result = {}
    for n in wanted:
        dets, digest = detect(net, frames[n], args.conf, args.iou)
        persons = [
            {'box': [round(v, 1) for v in d['box']], 'score': round(d['score'], 4)} for d in dets if d['cls'] == PERSON
        ]
        result[str(n)] = {'inputSha256': digest, 'persons': persons}
    print(json.dumps(result, indent=1))


if __name__ == '__main__':
    main()
