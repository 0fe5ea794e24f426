// ONNX for the lab: export of trained linear/tree models with their preprocessing, and serving any ONNX
// model (ours or a user's) with onnxruntime-node.
export {
  ONNX_OUTPUTS,
  OnnxExportUnsupported,
  exportTrainedModelToOnnx,
  isOnnxExportable,
  onnxInputName,
} from "./export.js";
export { OnnxModelRejected, OnnxPredictor, type OnnxPredictorOptions } from "./predictor.js";
