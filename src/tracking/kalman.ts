/**
 * Constant-velocity Kalman filter on a box's (x centre, y centre, aspect w/h, height) — the "xyah" state of
 * ByteTrack (Zhang et al. 2022, after SORT/DeepSORT), written from the equations.
 *
 * Why four independent 2×2 filters instead of one 8×8: the transition (position += dt·velocity), the
 * measurement (observe positions only) and both noise matrices are block-diagonal per coordinate, and the
 * initial covariance is diagonal, so the 8×8 covariance never couples two coordinates. Keeping only each
 * coordinate's (position, velocity) 2×2 block is exactly the same filter with no matrix library and no
 * per-frame allocation beyond the state itself.
 *
 * Why time is in "reference frames": the paper's noise weights are tuned per frame at about 30 fps. Our time
 * comes from pts in seconds (sources run at 5–60 fps, and with every_nth_frame the detector sees only some
 * frames), so a step of dt seconds counts as dt·30 reference frames; process noise grows linearly with it, as
 * a random walk's variance does. Velocities are therefore pixels per 1/30 s internally.
 */

/** The paper's weights: position noise 1/20 of the box height, velocity noise 1/160, per reference frame. */
const STD_POSITION = 1 / 20;
const STD_VELOCITY = 1 / 160;
export const REFERENCE_FPS = 30;

/** One coordinate: position p, velocity v, covariance [[a, b], [b, c]]. */
export interface KalmanState {
  /** x, y, a, h then their velocities (per reference frame). */
  readonly mean: Float64Array;
  /** Per coordinate k: cov[3k] = var(p), cov[3k+1] = cov(p, v), cov[3k+2] = var(v). */
  readonly cov: Float64Array;
}

/** xyxy → xyah. Height is floored so the aspect stays finite for a degenerate box. */
export function xyxyToXyah(x1: number, y1: number, x2: number, y2: number, out: Float64Array): void {
  const h = Math.max(y2 - y1, 1e-3);
  out[0] = (x1 + x2) / 2;
  out[1] = (y1 + y2) / 2;
  out[2] = (x2 - x1) / h;
  out[3] = h;
}

/** The state's box as xyxy; `dtFrames` > 0 extrapolates along the velocity without touching the state. */
export function stateToXyxy(s: KalmanState, dtFrames = 0): [number, number, number, number] {
  const m = s.mean;
  const cx = m[0]! + dtFrames * m[4]!;
  const cy = m[1]! + dtFrames * m[5]!;
  const a = m[2]! + dtFrames * m[6]!;
  const h = Math.max(m[3]! + dtFrames * m[7]!, 1e-3);
  const w = Math.max(a * h, 1e-3);
  return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2];
}

function sq(x: number): number {
  return x * x;
}

/** A new track from its first measurement: velocities unknown (0 with a wide variance). */
export function initiate(z: Float64Array): KalmanState {
  const h = z[3]!;
  const mean = new Float64Array(8);
  mean.set(z.subarray(0, 4));
  const posStd = [2 * STD_POSITION * h, 2 * STD_POSITION * h, 1e-2, 2 * STD_POSITION * h];
  const velStd = [10 * STD_VELOCITY * h, 10 * STD_VELOCITY * h, 1e-5, 10 * STD_VELOCITY * h];
  const cov = new Float64Array(12);
  for (let k = 0; k < 4; k++) {
    cov[3 * k] = sq(posStd[k]!);
    cov[3 * k + 2] = sq(velStd[k]!);
  }
  return { mean, cov };
}

/** Advance the state by dt reference frames (in place). dt ≤ 0 leaves it unchanged. */
export function predict(s: KalmanState, dtFrames: number): void {
  if (!(dtFrames > 0)) return;
  const m = s.mean;
  const c = s.cov;
  const h = m[3]!;
  const qPos = [STD_POSITION * h, STD_POSITION * h, 1e-2, STD_POSITION * h];
  const qVel = [STD_VELOCITY * h, STD_VELOCITY * h, 1e-5, STD_VELOCITY * h];
  for (let k = 0; k < 4; k++) {
    m[k] = m[k]! + dtFrames * m[k + 4]!;
    const a = c[3 * k]!;
    const b = c[3 * k + 1]!;
    const v = c[3 * k + 2]!;
    // F P Fᵀ + Q with F = [[1, dt], [0, 1]]; Q scaled by dt (random-walk variance grows with time).
    c[3 * k] = a + 2 * dtFrames * b + dtFrames * dtFrames * v + sq(qPos[k]!) * dtFrames;
    c[3 * k + 1] = b + dtFrames * v;
    c[3 * k + 2] = v + sq(qVel[k]!) * dtFrames;
  }
}

/** Correct the state with a measured xyah (in place). */
export function update(s: KalmanState, z: Float64Array): void {
  const m = s.mean;
  const c = s.cov;
  const h = m[3]!;
  const r = [STD_POSITION * h, STD_POSITION * h, 1e-1, STD_POSITION * h];
  for (let k = 0; k < 4; k++) {
    const a = c[3 * k]!;
    const b = c[3 * k + 1]!;
    const v = c[3 * k + 2]!;
    const innovationVar = a + sq(r[k]!);
    const kPos = a / innovationVar;
    const kVel = b / innovationVar;
    const innovation = z[k]! - m[k]!;
    m[k] = m[k]! + kPos * innovation;
    m[k + 4] = m[k + 4]! + kVel * innovation;
    c[3 * k] = a * (1 - kPos);
    c[3 * k + 1] = b * (1 - kPos);
    c[3 * k + 2] = v - kVel * b;
  }
}
