import { useEffect } from 'react';

/** The browser tab's title names the page (read first by screen readers on a page change). */
export function usePageTitle(title: string | undefined): void {
  useEffect(() => {
    if (title) document.title = `${title} · Commonweal`;
  }, [title]);
}
