// The ESM build registers cases with vitest's own describe/it.
export { describe, it } from 'vitest';
