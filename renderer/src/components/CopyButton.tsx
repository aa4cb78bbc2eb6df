/** Copies text to the clipboard and says so (or says why it could not). */
import Button, { type ButtonProps } from '@mui/material/Button';
import { useNotify } from './Notifier';

export interface CopyButtonProps {
  text: string;
  /** Accessible name and visible label, e.g. "Copy worker token". */
  label: string;
  /** What the confirmation says was copied ("Worker token"). */
  what: string;
  size?: ButtonProps['size'];
  variant?: ButtonProps['variant'];
}

export function CopyButton({ text, label, what, size = 'small', variant = 'outlined' }: CopyButtonProps) {
  const notify = useNotify();
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      notify.success(`${what} copied to the clipboard`);
    } catch (err) {
      notify.error(`Could not copy the ${what.toLowerCase()}`, err);
    }
  };
  return (
    <Button size={size} variant={variant} onClick={() => void copy()} disabled={text === ''}>
      {label}
    </Button>
  );
}
