import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { AUDIT_ACTIONS } from '../audit';
import { IntegrationKind } from '../kinds';
import {
  CLOUD_KINDS,
  EXPIRY_WARNING_DAYS,
  expiryState,
  INTEGRATION_KINDS,
  kindOfRestSegment,
  kinds,
  PAT_KINDS,
  SECRET_PARAMS,
} from './index';

/** Packages a module loads at run time (`import type` and `export type` vanish; node: builtins left out). */
function runtimePackages(entry: string): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
    for (const node of source.statements) {
      const loads =
        (ts.isImportDeclaration(node) && !node.importClause?.isTypeOnly) ||
        (ts.isExportDeclaration(node) && node.moduleSpecifier !== undefined && !node.isTypeOnly);
      if (!loads) continue;
      const specifier = ((node as ts.ImportDeclaration).moduleSpecifier as ts.StringLiteral).text;
      if (specifier.startsWith('.')) {
        const base = resolve(dirname(file), specifier);
        pending.push([`${base}.ts`, join(base, 'index.ts')].find((f) => existsSync(f)) as string);
      } else if (!specifier.startsWith('node:')) packages.add(specifier);
    }
  }
  return packages;
}

describe('@alphaswarm/contracts/kinds', () => {
  it('loads no package at all (no zod): the browser reads it', () => {
    const entry = join(dirname(fileURLToPath(import.meta.url)), 'index.ts');
    expect([...runtimePackages(entry)]).toEqual([]);
  });

  it('is the one list the zod enums, the PAT/cloud families and the audit actions derive from', () => {
    expect(IntegrationKind.options).toEqual(Object.keys(kinds));
    expect([...PAT_KINDS, ...CLOUD_KINDS].sort()).toEqual([...INTEGRATION_KINDS].sort());
    for (const kind of PAT_KINDS) {
      expect(kinds[kind].wizard).toEqual(['connect']);
      expect(AUDIT_ACTIONS).toContain(`integrations.connect.${kinds[kind].connectProcedure}`);
    }
    for (const kind of CLOUD_KINDS) expect(kinds[kind].wizard).toHaveLength(5);
    for (const kind of INTEGRATION_KINDS) {
      expect(kinds[kind].secretParams.length > 0, kind).toBe(kinds[kind].secretBearing);
      for (const param of kinds[kind].secretParams) expect(SECRET_PARAMS).toContain(param);
    }
  });

  it('builds the workload subject org:<org>:<kind> and finds a kind by its REST segment', () => {
    expect(kinds.cloud_azure.subject('org-acme')).toBe('org:org-acme:cloud_azure');
    expect(kindOfRestSegment('dockerhub')).toBe('docker_hub');
    expect(kindOfRestSegment('docker_hub')).toBe('docker_hub');
    for (const own of ['constructor', '__proto__', 'hasOwnProperty', 'docker-hub', '']) {
      expect(kindOfRestSegment(own), own).toBeUndefined();
    }
  });

  it('reads each kind’s expiry from the metadata field it writes, as RFC 3339 UTC; federated kinds never expire', () => {
    const at = '2026-06-06T12:00:00.000Z';
    expect(kinds.huggingface.expiresAt({ expires_at: at })).toBe('2026-06-06T12:00:00Z');
    expect(kinds.docker_hub.expiresAt({ token_expires_at: '2026-06-06T14:00:00+02:00' })).toBe('2026-06-06T12:00:00Z');
    expect(kinds.cloud_cloudflare.expiresAt({ expires_on: at })).toBe('2026-06-06T12:00:00Z');
    expect(kinds.cloud_cloudflare.expiresAt({ expires_at: at })).toBeNull();
    expect(kinds.docker_hub.expiresAt({ token_expires_at: null })).toBeNull();
    expect(kinds.huggingface.expiresAt({ expires_at: 'soon' })).toBeNull();
    for (const kind of ['cloud_aws', 'cloud_azure', 'cloud_gcp'] as const) {
      expect(kinds[kind].expiresAt({ expires_at: at, expires_on: at, token_expires_at: at })).toBeNull();
    }
  });

  it('has one expiry policy: expired, expiring within 14 days (whole days left), valid, none', () => {
    const now = new Date('2026-06-01T00:00:00Z');
    const plus = (days: number) => new Date(now.getTime() + days * 86_400_000).toISOString();
    expect(EXPIRY_WARNING_DAYS).toBe(14);
    expect(expiryState(plus(-0.001), now)).toEqual({ state: 'expired' });
    expect(expiryState(plus(0.5), now)).toEqual({ state: 'expiring', daysLeft: 0 });
    expect(expiryState(plus(3.5), now)).toEqual({ state: 'expiring', daysLeft: 3 });
    expect(expiryState(plus(14), now)).toEqual({ state: 'expiring', daysLeft: 14 });
    expect(expiryState(plus(14.01), now)).toEqual({ state: 'valid' });
    expect(expiryState(null, now)).toEqual({ state: 'none' });
    expect(expiryState('never', now)).toEqual({ state: 'none' });
  });
});
