import { fileURLToPath } from 'node:url';
import { describeRegistryStore } from '@keyledger/core/conformance';

// biome-ignore lint/suspicious/noUndeclaredEnvVars: set by scripts/test-pack.mjs, which picks the working or the broken store.
const file = process.env.STORE_MODULE ?? './my-store.mjs';
const { openStore } = await import(file);
describeRegistryStore({ name: file, open: openStore, module: fileURLToPath(new URL(file, import.meta.url)) });
