/**
 * The sampler: any schedule on any AR model, with guidance and exact replay, plus teacher
 * forcing for scoring token grids.
 * @module
 */
export { nllAndEntropy, type SamplingOptions, TokenDrawer } from "./distribution.ts";
export { buildSequenceInputs, buildStepInputs, type RowClass } from "./layout.ts";
export { PairingError } from "./pairing.ts";
export {
  sample,
  type SampleOptions,
  SampleOptionsError,
  type SampleResult,
  type StepTrace,
} from "./sampler.ts";
export {
  teacherForce,
  type TeacherForceOptions,
  type TeacherForceResult,
} from "./teacher_forcing.ts";
export { sampleMany, type SampleManyOptions, type SampleManyResult } from "./batch.ts";
