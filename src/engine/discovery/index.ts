export { ComposeFileError, composeLabels, homepageFromLabels, mergeComposeServices, parseComposeServices, servicesFromCompose } from './compose-file.js';
export { normalizeConfigFiles, resolveConfigFiles } from './config-files.js';
export { interpolate, parseEnvFile } from './env-file.js';
export { parseComposeImage } from './image-ref.js';
export { type DiscoveryAction, DiscoveryScanner, type DiscoveryScanResult, runDiscoveryScan } from './scan.js';
