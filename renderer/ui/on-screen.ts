import { useEffect, useRef, useState, type RefObject } from 'react';

/**
 * Whether the element is on screen (within `margin` of the viewport), from an IntersectionObserver:
 * a panel scrolled out of view can hold its last picture instead of redrawing every second.
 * True until the first observation, and wherever IntersectionObserver is missing.
 */
export function useOnScreen<E extends Element>(margin = '200px'): [RefObject<E | null>, boolean] {
  const ref = useRef<E | null>(null);
  const [onScreen, setOnScreen] = useState(true);
  useEffect(() => {
    const element = ref.current;
    if (!element || typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver((entries) => setOnScreen(entries.some((e) => e.isIntersecting)), { rootMargin: margin });
    observer.observe(element);
    return () => observer.disconnect();
  }, [margin]);
  return [ref, onScreen];
}

/** `value` as it was when `hold` last was false: the same object while held, so memoized children skip. */
export function useHeld<T>(value: T, hold: boolean): T {
  const kept = useRef(value);
  if (!hold) kept.current = value;
  return kept.current;
}
