/**
 * Wrappers a program cannot tell from the functions they replace. Its own file: the loader
 * (loader.ts, before the preload's body is loaded) wraps `Module._load` with it too.
 */

/**
 * Makes `wrapper` indistinguishable from `original` by what a program can read of it: every own
 * property of the original (`name`, `length`, `prototype`, `util.promisify.custom`, any other)
 * with the same descriptor, and the same [[Prototype]]. A wrapper that kept only `name` and
 * `length` broke `util.promisify(http2.connect)`, which reads `util.promisify.custom`.
 * (Function.prototype.toString still shows the wrapper's source: it cannot be changed.)
 */
export function mirror<T extends Function>(wrapper: T, original: Function): T {
  for (const key of Reflect.ownKeys(original)) {
    const d = Object.getOwnPropertyDescriptor(original, key);
    if (!d) continue;
    try {
      Object.defineProperty(wrapper, key, d);
    } catch {
      // A non-configurable property of the wrapper's own (`prototype` with other flags): left as is.
    }
  }
  // Own properties of the wrapper the original lacks (configurable ones: not `prototype`).
  for (const key of Reflect.ownKeys(wrapper)) {
    if (Object.prototype.hasOwnProperty.call(original, key)) continue;
    try {
      delete (wrapper as unknown as Record<PropertyKey, unknown>)[key as string];
    } catch {
      /* non-configurable */
    }
  }
  const proto = Object.getPrototypeOf(original) as object | null;
  if (Object.getPrototypeOf(wrapper) !== proto) Object.setPrototypeOf(wrapper, proto);
  return wrapper;
}

/** How a property is defined: Object.defineProperty, or detach.ts's defineRestorable (put back at detach). */
export type Define = (obj: object, key: PropertyKey, d: PropertyDescriptor) => void;

/**
 * Replaces the function at `obj[key]` by `wrapper` (mirrored on `original`, see mirror()) with
 * `define`, keeping the property's own descriptor (writable, enumerable, configurable) where it is
 * an own property; a method inherited from a prototype becomes a non-enumerable own one.
 */
export function replaceWith(
  obj: object,
  key: PropertyKey,
  wrapper: Function,
  original: Function,
  define: Define = Object.defineProperty,
): void {
  mirror(wrapper, original);
  const d = Object.getOwnPropertyDescriptor(obj, key);
  define(
    obj,
    key,
    d && 'value' in d ? { ...d, value: wrapper } : { value: wrapper, writable: true, configurable: true, enumerable: false },
  );
}
