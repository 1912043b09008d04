import type { HandlerMap } from '../http/handler-types.js';
import { notImplemented } from './not-implemented.js';

export const checksHandlers: Pick<HandlerMap, 'createCheck' | 'createRuntimeScan'> = {
  createCheck: notImplemented('createCheck'),
  createRuntimeScan: notImplemented('createRuntimeScan'),
};
