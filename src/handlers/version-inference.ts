import type { HandlerMap } from '../http/handler-types.js';
import { notImplemented } from './not-implemented.js';

export const versionInferenceHandlers: Pick<HandlerMap, 'getVersionInferenceOverview' | 'streamVersionInferenceEvents'> = {
  getVersionInferenceOverview: notImplemented('getVersionInferenceOverview'),
  streamVersionInferenceEvents: notImplemented('streamVersionInferenceEvents'),
};
