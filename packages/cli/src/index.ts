// The public interface is the `passerelle` command (main.ts); runCli runs it in-process.
export { runCli } from './run.js';
