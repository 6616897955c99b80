import { useRef } from 'react';

/**
 * One request of a form at a time, even when a double click or a second Enter comes before the
 * next render (a mutation's isPending is not yet true then). The button stays focusable while
 * it waits, unlike a disabled one, which would drop the keyboard focus.
 */
export function useOneAtATime(): (send: () => Promise<unknown>) => void {
  const busy = useRef(false);
  return (send) => {
    if (busy.current) return;
    busy.current = true;
    send()
      // The mutation's own onError shows the refusal; nothing more to do here.
      .catch(() => undefined)
      .finally(() => {
        busy.current = false;
      });
  };
}
