import { useEffect, type RefObject } from 'react';

/**
 * Keeps a full-screen panel inside the part of the screen the customer can see: on phones the
 * on-screen keyboard shrinks the visual viewport but not the layout viewport, so a panel sized
 * to `100dvh` would hide its composer under the keyboard. While `active`, the element gets
 * `--fenliu-viewport-height` and `--fenliu-viewport-top` from `window.visualViewport`.
 */
export function useVisualViewport(element: RefObject<HTMLElement | null>, active: boolean): void {
  useEffect(() => {
    const viewport = typeof window === 'undefined' ? undefined : window.visualViewport;
    const target = element.current;
    if (!active || !viewport || !target) return;
    const update = (): void => {
      target.style.setProperty('--fenliu-viewport-height', `${viewport.height}px`);
      target.style.setProperty('--fenliu-viewport-top', `${viewport.offsetTop}px`);
    };
    update();
    viewport.addEventListener('resize', update);
    viewport.addEventListener('scroll', update);
    return () => {
      viewport.removeEventListener('resize', update);
      viewport.removeEventListener('scroll', update);
      target.style.removeProperty('--fenliu-viewport-height');
      target.style.removeProperty('--fenliu-viewport-top');
    };
  }, [element, active]);
}
