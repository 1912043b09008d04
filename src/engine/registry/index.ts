// The registry client of the engine: image references, credentials, the HTTP client, check sessions.
export { RegistryClient, type RegistryClientOptions, type RegistryRequestEvent } from './client.js';
export { DockerCredentials, loadDockerCredentials } from './credentials.js';
export { RegistryError } from './errors.js';
export { type ImageRef, InvalidImageRefError, isDigest, normalizeDigest, parseImageRef, type RepositoryRef } from './reference.js';
export { CheckSession } from './session.js';
