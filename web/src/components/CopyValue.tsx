// A value to paste elsewhere (a callback URL, a token shown once), with a copy button. Without
// the clipboard API (plain http on another host) the value is selected for a manual copy.
import { useRef, useState } from 'react';

export function CopyValue({ value, label, testId }: { value: string; label: string; testId?: string }) {
  const ref = useRef<HTMLElement>(null);
  const [copied, setCopied] = useState<'yes' | 'select' | undefined>();
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied('yes');
    } catch {
      const range = document.createRange();
      range.selectNodeContents(ref.current!);
      const selection = window.getSelection();
      selection?.removeAllRanges();
      selection?.addRange(range);
      setCopied('select');
    }
  };
  return (
    <span className="copyable">
      <code ref={ref} data-testid={testId}>
        {value}
      </code>
      <button type="button" onClick={() => void copy()} aria-label={`Copy ${label}`}>
        Copy
      </button>
      <span className="small" role="status">
        {copied === 'yes' ? 'Copied.' : copied === 'select' ? 'Selected: press Ctrl+C to copy.' : ''}
      </span>
    </span>
  );
}
