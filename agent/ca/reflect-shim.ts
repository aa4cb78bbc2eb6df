/**
 * @peculiar/x509 wires its algorithms together with tsyringe, which refuses to load unless the global
 * Reflect object has the metadata API (normally supplied by the `reflect-metadata` package). We may add
 * only one dependency, and tsyringe uses three calls of that API, so this module supplies them. It
 * installs nothing when a full polyfill is already present, so a real one loaded elsewhere wins.
 *
 * It must be evaluated before @peculiar/x509; `./x509` imports it first for that reason.
 */
type MetadataTarget = object;

interface ReflectMetadataApi {
  defineMetadata(key: unknown, value: unknown, target: MetadataTarget): void;
  getOwnMetadata(key: unknown, target: MetadataTarget): unknown;
  getMetadata(key: unknown, target: MetadataTarget): unknown;
}

const reflect = Reflect as typeof Reflect & Partial<ReflectMetadataApi>;

if (typeof reflect.getMetadata !== 'function') {
  const store = new WeakMap<MetadataTarget, Map<unknown, unknown>>();

  const getOwnMetadata = (key: unknown, target: MetadataTarget): unknown => store.get(target)?.get(key);

  Object.assign(reflect, {
    defineMetadata(key: unknown, value: unknown, target: MetadataTarget): void {
      let entries = store.get(target);
      if (entries === undefined) {
        entries = new Map();
        store.set(target, entries);
      }
      entries.set(key, value);
    },
    getOwnMetadata,
    // Metadata is inherited along the prototype chain, as reflect-metadata does.
    getMetadata(key: unknown, target: MetadataTarget): unknown {
      for (let current: MetadataTarget | null = target; current !== null; current = Object.getPrototypeOf(current) as MetadataTarget | null) {
        const entries = store.get(current);
        if (entries?.has(key)) return entries.get(key);
      }
      return undefined;
    },
  } satisfies ReflectMetadataApi);
}

export {};
