import type { BuildResult } from 'esbuild';

export declare const DIST: string;
export declare const STAMP: string;
export declare function staleSource(): string | null;
export declare function buildServer(): Promise<BuildResult<{ metafile: true }>>;
