// Types of build.mjs (plain JavaScript: the launchers run it before anything can compile TypeScript).

export declare const root: string;
export declare const distDir: string;
export declare const entries: { cli: string; runner: string };
export declare const bundledPackages: string[];

export interface Manifest {
  id?: unknown;
  entries?: unknown;
  inputs?: unknown;
}

export declare function hashFile(path: string): string | undefined;
export declare function staleReason(
  manifest: Manifest | undefined,
  wantedEntries: Record<string, string>,
  hashOf: (path: string) => string | undefined,
): string | undefined;
export declare function checkBuild():
  | { dir: string; reason?: undefined }
  | { dir?: undefined; reason: string };
export declare function build(): Promise<string>;
export declare function ensureBuilt(): Promise<string>;
export declare function exitOnCompileError(error: unknown): void;
export declare function load(name: keyof typeof entries): Promise<Record<string, unknown>>;
