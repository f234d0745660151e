import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The one place function code reads its configuration from. In Lambda every function has a
 * process of its own, so this is `process.env`. The local runtime runs every function in one
 * Node process; it invokes each handler inside `runAsFunction`, and within that call (and every
 * promise it starts) this module answers from that function's own environment only — the
 * `Environment` the synthesized template gives it — so a variable the template forgets is missing
 * locally too, as it would be in AWS.
 */
export interface FunctionScope {
  /** The registry key of the function. */
  name: string;
  env: Readonly<Record<string, string>>;
}

interface ActiveScope extends FunctionScope {
  /** Values built once per container: one map per function, as each Lambda has its own. */
  containers: Map<object, unknown>;
}

const current = new AsyncLocalStorage<ActiveScope>();
const scopes = new Map<string, ActiveScope>();

/** Runs `work` as the function `scope.name` with exactly `scope.env` as its environment. */
export function runAsFunction<T>(scope: FunctionScope, work: () => T): T {
  let active = scopes.get(scope.name);
  if (!active || active.env !== scope.env) {
    active = { ...scope, containers: new Map() };
    scopes.set(scope.name, active);
  }
  return current.run(active, work);
}

/** The function whose code is running, when the local runtime runs it. */
export function currentFunction(): string | undefined {
  return current.getStore()?.name;
}

export function env(name: string): string | undefined {
  const scope = current.getStore();
  return scope ? scope.env[name] : process.env[name];
}

export function requiredEnv(name: string): string {
  const value = env(name);
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

/**
 * A value built on first use from the environment and kept for the container's life (clients,
 * configuration). Locally each function gets its own, built from its own environment.
 */
export function perContainer<T>(build: () => T): () => T {
  const key = {};
  let built: { value: T } | undefined;
  return () => {
    const scope = current.getStore();
    if (!scope) {
      built ??= { value: build() };
      return built.value;
    }
    if (!scope.containers.has(key)) scope.containers.set(key, build());
    return scope.containers.get(key) as T;
  };
}
