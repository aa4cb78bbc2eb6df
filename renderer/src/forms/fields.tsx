/** The form's inputs: labelled text fields and native selects that show a field's message under it. */
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import type { ReactNode } from 'react';

export interface TextInputProps {
  label: string;
  value: string;
  onChange(value: string): void;
  error?: string;
  help?: string;
  placeholder?: string;
  disabled?: boolean;
  required?: boolean;
  numeric?: boolean;
  autoFocus?: boolean;
  testId?: string;
  /** `password`: typed text is hidden and browsers offer no autofill. */
  type?: 'text' | 'password';
}

export function TextInput({ label, value, onChange, error, help, placeholder, disabled, required, numeric, autoFocus, testId, type }: TextInputProps) {
  return (
    <TextField
      size="small"
      type={type ?? 'text'}
      autoComplete={type === 'password' ? 'new-password' : undefined}
      label={label}
      value={value}
      onChange={(event) => onChange(event.target.value)}
      error={error !== undefined}
      helperText={error ?? help}
      placeholder={placeholder}
      disabled={disabled}
      required={required}
      autoFocus={autoFocus}
      fullWidth
      slotProps={{ htmlInput: { inputMode: numeric ? 'numeric' : undefined, 'data-testid': testId, spellCheck: false } }}
    />
  );
}

export interface SelectInputProps<T extends string> {
  label: string;
  value: T;
  options: readonly (readonly [T, string])[];
  onChange(value: T): void;
  error?: string;
  disabled?: boolean;
}

/** A native select: keyboard friendly and driven by `selectOption` in tests. */
export function SelectInput<T extends string>({ label, value, options, onChange, error, disabled }: SelectInputProps<T>) {
  return (
    <TextField
      select
      size="small"
      label={label}
      value={value}
      onChange={(event) => onChange(event.target.value as T)}
      error={error !== undefined}
      helperText={error}
      disabled={disabled}
      fullWidth
      slotProps={{ select: { native: true }, inputLabel: { shrink: true } }}
    >
      {options.map(([option, text]) => (
        <option key={option} value={option}>
          {text}
        </option>
      ))}
    </TextField>
  );
}

export function Section({ title, children, description }: { title: string; description?: string; children: ReactNode }) {
  return (
    <Box component="fieldset" sx={{ border: 0, p: 0, m: 0, mb: 3, minWidth: 0 }}>
      <Typography component="legend" variant="subtitle1" sx={{ fontWeight: 600, mb: 0.5 }}>
        {title}
      </Typography>
      {description && (
        <Typography variant="body2" color="text.secondary" sx={{ mb: 1 }}>
          {description}
        </Typography>
      )}
      {children}
    </Box>
  );
}

export function Grid({ columns, children }: { columns: string; children: ReactNode }) {
  return <Box sx={{ display: 'grid', gridTemplateColumns: { xs: '1fr', sm: columns }, gap: 1.5, alignItems: 'start', mb: 1.5 }}>{children}</Box>;
}

/** Rows of inputs with "Remove" on each and one "Add" under them. */
export function RowList<T>({ rows, addLabel, removeLabel, onAdd, onRemove, render, columns }: {
  rows: readonly T[];
  addLabel: string;
  removeLabel(index: number): string;
  onAdd(): void;
  onRemove(index: number): void;
  render(row: T, index: number): ReactNode;
  columns: string;
}) {
  return (
    <Box>
      {rows.map((row, index) => (
        <Box key={index} sx={{ display: 'grid', gridTemplateColumns: { xs: '1fr', sm: `${columns} auto` }, gap: 1.5, alignItems: 'start', mb: 1 }}>
          {render(row, index)}
          <Button onClick={() => onRemove(index)} aria-label={removeLabel(index)}>
            Remove
          </Button>
        </Box>
      ))}
      <Button size="small" onClick={onAdd}>
        {addLabel}
      </Button>
    </Box>
  );
}
