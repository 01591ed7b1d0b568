// Runs the benchmark workloads compiled to wasm32-wasip1 under Node's WASI (V8).
//   node bench/run-wasi.mjs path/to/edge-mfa-bench.wasm [budget_ns]
import { readFile } from 'node:fs/promises';
import { WASI } from 'node:wasi';

const [file, budget = '1000000000'] = process.argv.slice(2);
const wasi = new WASI({ version: 'preview1', args: ['edge-mfa-bench', budget], env: {}, returnOnExit: true });
const module = await WebAssembly.compile(await readFile(file));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
const code = wasi.start(instance);
process.exit(code);
