import { useEffect, useRef, useState } from 'react';
import type { ChatTurn } from '../router/conversation';

/** What the live region says now: the text, and a count that makes a repeated text new. */
export interface Announcement {
  text: string;
  count: number;
}

/**
 * Each answer, once: the text of every turn whose answer became final (per `textOf`) since the
 * widget mounted, for a polite live region. A turn restored from storage, or changed before the
 * widget mounted, is not read out again; a turn whose final text changes (a question, then its
 * result) is read out again. `onAnswer` hears each announced answer (the launcher's unread count).
 */
export function useAnnouncer(
  turns: readonly ChatTurn[],
  textOf: (turn: ChatTurn) => string | null,
  { onAnswer }: { onAnswer?: () => void } = {},
): Announcement | null {
  const [mountedAt] = useState(() => Date.now());
  const announced = useRef(new Map<string, string>());
  const [announcement, setAnnouncement] = useState<Announcement | null>(null);
  const latest = useRef({ textOf, onAnswer });
  useEffect(() => {
    latest.current = { textOf, onAnswer };
  });

  useEffect(() => {
    const fresh: string[] = [];
    for (const turn of turns) {
      const text = latest.current.textOf(turn);
      if (text === null || announced.current.get(turn.id) === text) continue;
      announced.current.set(turn.id, text);
      // NOTE: a turn whose last change is older than the widget came from storage or another tab
      // before this page opened: the customer has read it already.
      if ((turn.updatedAt ?? turn.sentAt) >= mountedAt) fresh.push(text);
    }
    if (fresh.length === 0) return;
    for (let index = 0; index < fresh.length; index++) latest.current.onAnswer?.();
    // NOTE: the live region is the external system here; its text follows the conversation.
    // eslint-disable-next-line react-hooks/set-state-in-effect
    setAnnouncement((previous) => ({ text: fresh.join(' '), count: (previous?.count ?? 0) + 1 }));
  }, [turns, mountedAt]);

  return announcement;
}
