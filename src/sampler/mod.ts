/**
 * The sampler: any schedule on any AR model, with guidance (parlab's or the official interval
 * rule) and exact replay from explicit uniforms; sampling in batches that resume after an
 * interruption (`sampleMany`, `ResumeStore`) and in shards (`firstImage`); the effective settings
 * (options over manifest defaults); training-free parallel decoding of raster models (ZipAR,
 * Speculative Jacobi Decoding; see the folder's README); and teacher forcing for scoring grids.
 * @module
 */
export {
  nllAndEntropy,
  NonFiniteLogitsError,
  type SamplingOptions,
  TokenDrawer,
} from "./distribution.ts";
export { buildSequenceInputs, buildStepInputs, type RowClass } from "./layout.ts";
export { PairingError } from "./pairing.ts";
export { sample, type SampleOptions, type SampleResult, type StepTrace } from "./sampler.ts";
export {
  teacherForce,
  type TeacherForceOptions,
  type TeacherForceResult,
} from "./teacher_forcing.ts";
export {
  effectiveSettings,
  guidedSteps,
  SampleOptionsError,
  type SamplingOverrides,
  type SamplingSettings,
} from "./settings.ts";
export { type KeyMismatch, ResumeStore } from "./resume_store.ts";
export { sampleMany, type SampleManyOptions, type SampleManyResult } from "./batch.ts";
export {
  type DraftInit,
  type JacobiIteration,
  type JacobiOptions,
  type JacobiResult,
  sampleJacobi,
} from "./jacobi.ts";
export {
  sampleZipAR,
  type ZipAROptions,
  type ZipARResult,
  type ZipARSlot,
  type ZipARSlotKind,
  type ZipARStep,
} from "./zipar.ts";
export { acceptDraft, drawFromTable, drawResidual, type Proposal } from "./speculative.ts";
export {
  type FunctionModel,
  functionModel,
  type FunctionModelOptions,
  type FunctionQuery,
} from "./function_model.ts";
