/** Types of typescript.mjs. */
export const LOADER: unique symbol;
export function useTypeScript(): Promise<void>;
