// Types of build.mjs (plain JavaScript, run by `npm run build:action` without compiling anything).

export declare const root: string;
export declare const distFile: string;
export declare function bundleAction(): Promise<string>;
