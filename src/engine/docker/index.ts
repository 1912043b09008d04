export { COMPOSE_LABELS, type ComposeContainer, healthFromStatusText, type StackStatus, stackStatus } from './containers.js';
export { parseDockerHost } from './endpoint.js';
export { DockerEngine, type ListComposeContainersOptions } from './engine.js';
export { DockerUnavailableError } from './errors.js';
export { selectRuntimeDigest } from './runtime-digest.js';
export { type DockerReads, DockerStateCache } from './state-cache.js';
