import { useEffect } from 'react';

/** The tab's title names the screen (screen readers announce it on navigation). */
export function useTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · Bank console`;
  }, [title]);
}
