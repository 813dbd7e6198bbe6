import { libraryOptions } from '@keyledger/build-config';
import { defineConfig } from 'tsup';

export default defineConfig(libraryOptions);
