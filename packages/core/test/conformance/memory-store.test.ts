import { describeRegistryStore } from '../../src/conformance/index.js';
import { MemoryRegistryStore } from '../../src/index.js';

describeRegistryStore({ name: 'memory', open: () => new MemoryRegistryStore(), durable: false });
