export { BuildErrors } from './build-errors.js';
export { BUILDER_NAMES, type Builder, type BuilderName, type BuildRequest, type BuildResult, isBuilderName } from './builder.js';
export { DockerfileBuilder } from './dockerfile-builder.js';
export { PackBuilder, type PackBuilderOptions } from './pack-builder.js';
export { GENERATED_DOCKERFILE, TemplateBuilder, type TemplateBuilderOptions } from './template-builder.js';
export { type BuilderDeps, createBuilder, selectBuilder } from './select-builder.js';
export { type DetectedStack, detectStack, STACK_MARKERS, type Stack } from './stack-detection.js';
export { renderStackDockerfile } from './dockerfile-template.js';
