/** Three dots while the assistant works, with the words for screen readers. */
export function Typing({ label }: { label: string }) {
  return (
    <span className="typing" role="img" aria-label={label}>
      <span />
      <span />
      <span />
    </span>
  );
}
