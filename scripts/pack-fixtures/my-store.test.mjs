import { fileURLToPath } from 'node:url';
import { describeRegistryStore } from '@keyledger/core/conformance';

const file = process.env.STORE_MODULE ?? './my-store.mjs';
const { openStore } = await import(file);
describeRegistryStore({ name: file, open: openStore, module: fileURLToPath(new URL(file, import.meta.url)) });
