/*
 * Makes an ONNX detector's batch axis dynamic: the graph's inputs and outputs get a named first dimension
 * instead of 1, and shape constants that pin the batch to 1 (Reshape targets) copy it from their input
 * instead (0 in ONNX's Reshape means "this dimension as in the input"). What cross-stream batching is
 * measured with (`scripts/batching.js`): our YOLOX-nano is exported at [1,3,416,416] and nothing here can
 * re-export it. Field numbers are onnx.proto's (onnx/onnx, onnx.proto3).
 */
import { WireType, bytesField, decodeVarint, editSubmessages, parseMessage, serializeMessage, stringField, type WireField } from './protoWire.js';

const MODEL = { graph: 7 };
const GRAPH = { node: 1, initializer: 5, input: 11, output: 12, valueInfo: 13 };
const NODE = { input: 1, output: 2, opType: 4, attribute: 5 };
const ATTRIBUTE = { name: 1, t: 5 };
const TENSOR = { dims: 1, dataType: 2, int64Data: 7, name: 8, rawData: 9 };
const VALUE_INFO = { name: 1, type: 2 };
const TYPE = { tensorType: 1 };
const TENSOR_TYPE = { shape: 2 };
const SHAPE = { dim: 1 };
const DIM = { value: 1, param: 2 };
const INT64 = 7;

const first = (fields: WireField[], num: number): WireField | undefined => fields.find((f) => f.num === num);

/** A value's dimensions: numbers, or the symbolic name of a dynamic one. */
export type Dims = (number | string)[];

function shapeOf(valueInfo: Uint8Array): { name: string; dims: Dims } {
  const vi = parseMessage(valueInfo);
  const name = stringField(first(vi, VALUE_INFO.name)!);
  const type = first(vi, VALUE_INFO.type);
  const tensor = type && first(parseMessage(type.payload), TYPE.tensorType);
  const shape = tensor && first(parseMessage(tensor.payload), TENSOR_TYPE.shape);
  const dims: Dims = [];
  for (const d of shape ? parseMessage(shape.payload).filter((f) => f.num === SHAPE.dim) : []) {
    const df = parseMessage(d.payload);
    const v = first(df, DIM.value);
    const p = first(df, DIM.param);
    dims.push(v ? Number(decodeVarint(v.payload)) : p ? stringField(p) : '?');
  }
  return { name, dims };
}

/** Replaces the first dimension of a ValueInfoProto's tensor shape with a named one. */
function withNamedFirstDim(valueInfo: Uint8Array, param: string): Uint8Array {
  return editSubmessages(valueInfo, VALUE_INFO.type, (type) =>
    editSubmessages(type, TYPE.tensorType, (tensor) =>
      editSubmessages(tensor, TENSOR_TYPE.shape, (shape) =>
        editSubmessages(shape, SHAPE.dim, (dim, i) => (i === 0 ? serializeMessage([bytesField(DIM.param, Buffer.from(param))]) : dim)),
      ),
    ),
  );
}

/** An int64 tensor's values, from raw_data (little-endian) or int64_data (packed or not). */
function int64Values(tensor: WireField[]): bigint[] {
  const raw = first(tensor, TENSOR.rawData);
  if (raw) {
    const view = new DataView(raw.payload.buffer, raw.payload.byteOffset, raw.payload.byteLength);
    return Array.from({ length: raw.payload.byteLength / 8 }, (_, i) => view.getBigInt64(8 * i, true));
  }
  const out: bigint[] = [];
  for (const f of tensor.filter((x) => x.num === TENSOR.int64Data)) {
    if (f.type === WireType.Varint) out.push(BigInt.asIntN(64, decodeVarint(f.payload)));
    else for (let at = 0; at < f.payload.length; ) {
      let end = at;
      while (f.payload[end]! & 0x80) end++;
      out.push(BigInt.asIntN(64, decodeVarint(f.payload.subarray(at, end + 1))));
      at = end + 1;
    }
  }
  return out;
}

/** The same tensor with its int64 values replaced (written as raw_data, as exporters do). */
function withInt64Values(tensor: WireField[], values: bigint[]): Uint8Array {
  const raw = new Uint8Array(8 * values.length);
  const view = new DataView(raw.buffer);
  values.forEach((v, i) => view.setBigInt64(8 * i, v, true));
  const kept = tensor.filter((f) => f.num !== TENSOR.rawData && f.num !== TENSOR.int64Data);
  return serializeMessage([...kept, bytesField(TENSOR.rawData, raw)]);
}

export interface BatchAxisReport {
  inputs: { name: string; dims: Dims }[];
  outputs: { name: string; dims: Dims }[];
  /** Reshape targets whose leading 1 became 0 (copy the batch from the input). */
  reshapesFreed: string[];
  /** Reshape targets left alone: no leading 1 (already dynamic, or flattening the batch away). */
  reshapesKept: string[];
}

/**
 * The model with a dynamic batch axis named `param` on every input and output. Reshape targets given as
 * initializers or Constant nodes with a leading 1 get 0 instead. Other ops that could fix the batch
 * (Expand, Tile to a constant shape) are not rewritten: ORT then fails on batch > 1, which the caller sees.
 */
export function makeBatchDynamic(model: Uint8Array, param = 'batch'): { model: Uint8Array; report: BatchAxisReport } {
  const report: BatchAxisReport = { inputs: [], outputs: [], reshapesFreed: [], reshapesKept: [] };
  const out = editSubmessages(model, MODEL.graph, (graph) => {
    const fields = parseMessage(graph);
    const initializerNames = new Set(fields.filter((f) => f.num === GRAPH.initializer).map((f) => stringField(first(parseMessage(f.payload), TENSOR.name)!)));
    // The shape operand (second input) of every Reshape.
    const reshapeShapes = new Set<string>();
    for (const f of fields.filter((x) => x.num === GRAPH.node)) {
      const node = parseMessage(f.payload);
      if (stringField(first(node, NODE.opType)!) !== 'Reshape') continue;
      const shapeInput = node.filter((x) => x.num === NODE.input)[1];
      if (shapeInput) reshapeShapes.add(stringField(shapeInput));
    }
    const freeShape = (name: string, tensorBytes: Uint8Array): Uint8Array => {
      const tensor = parseMessage(tensorBytes);
      const typeField = first(tensor, TENSOR.dataType);
      const values = typeField && Number(decodeVarint(typeField.payload)) === INT64 ? int64Values(tensor) : [];
      if (values.length > 1 && values[0] === 1n) {
        report.reshapesFreed.push(`${name}: [${values.join(',')}]`);
        return withInt64Values(tensor, [0n, ...values.slice(1)]);
      }
      report.reshapesKept.push(`${name}: [${values.join(',')}]`);
      return tensorBytes;
    };
    const edited = fields.map((f): WireField => {
      if (f.type !== WireType.Bytes) return f;
      if (f.num === GRAPH.input || f.num === GRAPH.output) {
        const s = shapeOf(f.payload);
        if (f.num === GRAPH.input && initializerNames.has(s.name)) return f; // old exporters list weights as inputs
        const payload = withNamedFirstDim(f.payload, param);
        (f.num === GRAPH.input ? report.inputs : report.outputs).push(shapeOf(payload));
        return { ...f, payload };
      }
      // Inferred shapes of intermediates would contradict the new batch: dropped, ORT infers them again.
      if (f.num === GRAPH.initializer) {
        const name = stringField(first(parseMessage(f.payload), TENSOR.name)!);
        return reshapeShapes.has(name) ? { ...f, payload: freeShape(name, f.payload) } : f;
      }
      if (f.num === GRAPH.node) {
        const node = parseMessage(f.payload);
        if (stringField(first(node, NODE.opType)!) !== 'Constant') return f;
        const output = stringField(first(node, NODE.output)!);
        if (!reshapeShapes.has(output)) return f;
        return {
          ...f,
          payload: editSubmessages(f.payload, NODE.attribute, (attr) => {
            const a = parseMessage(attr);
            if (stringField(first(a, ATTRIBUTE.name)!) !== 'value') return attr;
            return editSubmessages(attr, ATTRIBUTE.t, (t) => freeShape(output, t));
          }),
        };
      }
      return f;
    });
    return serializeMessage(edited.filter((f) => f.num !== GRAPH.valueInfo));
  });
  return { model: out, report };
}

/** For reading a report: the inputs' and outputs' shapes of a model as it is. */
export function graphShapes(model: Uint8Array): { inputs: { name: string; dims: Dims }[]; outputs: { name: string; dims: Dims }[] } {
  const graph = parseMessage(first(parseMessage(model), MODEL.graph)!.payload);
  return {
    inputs: graph.filter((f) => f.num === GRAPH.input).map((f) => shapeOf(f.payload)),
    outputs: graph.filter((f) => f.num === GRAPH.output).map((f) => shapeOf(f.payload)),
  };
}

