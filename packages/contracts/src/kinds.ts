import { z } from 'zod';
import {
  CLOUD_KINDS,
  type CloudKind as CloudKindName,
  INTEGRATION_KINDS,
  type IntegrationKind as Kind,
} from './kinds/index';

// The zod-free registry, re-exported for code that loads zod anyway; its kind names become enums here.
export * from './kinds/index';

export const IntegrationKind = z.enum(INTEGRATION_KINDS as readonly [Kind, ...Kind[]]);
export type IntegrationKind = Kind;

export const CloudKind = z.enum(CLOUD_KINDS as readonly [CloudKindName, ...CloudKindName[]]);
export type CloudKind = CloudKindName;
