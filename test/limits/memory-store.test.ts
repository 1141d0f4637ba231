import { MemoryLimitStore } from '../../src/limits/memory.js';
import { limitStoreContract } from './store-contract.js';

limitStoreContract('memory', async () => new MemoryLimitStore());
