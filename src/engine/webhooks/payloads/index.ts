// One payload reader per source, behind one signature.
import type { RegistryWebhookSource } from '../sources.js';
import { parseDistribution } from './distribution.js';
import { parseDockerHub } from './dockerhub.js';
import type { PayloadParser } from './event.js';
import { parseHarbor } from './harbor.js';
import { parseQuay } from './quay.js';

export type { ParsedDelivery, RegistryEvent } from './event.js';

export const PAYLOAD_PARSERS: Record<RegistryWebhookSource, PayloadParser> = {
  distribution: parseDistribution,
  harbor: parseHarbor,
  dockerhub: parseDockerHub,
  quay: parseQuay,
};
