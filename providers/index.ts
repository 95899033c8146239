/** The package's entry: the providers the serialized shims load by name (shim.ts). */
export { ActiveProcessProvider, AoActiveProcess } from "./activeProcess";
export { AoProcess, Provider } from "./aoProcess";
