import { type RefObject, useCallback, useEffect, useState } from 'react';

/**
 * Returns a function that focuses (and scrolls to) the first invalid field inside `container` once
 * React has rendered the errors that made it invalid. An effect runs after that commit; a
 * requestAnimationFrame could run before it (on a loaded machine the e2e test saw the Name field left
 * unfocused after the server refused a name), and a field still disabled while busy takes no focus.
 */
export function useFocusFirstError(container: RefObject<HTMLElement | null>): () => void {
  const [request, setRequest] = useState(0);
  useEffect(() => {
    if (request === 0) return;
    const invalid = container.current?.querySelector<HTMLElement>('[aria-invalid="true"]');
    invalid?.focus();
    invalid?.scrollIntoView({ block: 'center' });
  }, [request, container]);
  return useCallback(() => setRequest((n) => n + 1), []);
}
