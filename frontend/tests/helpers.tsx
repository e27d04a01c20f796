import React, { useState } from 'react';
import { act, fireEvent, waitFor } from '@testing-library/react';
import type { UserEvent } from '@testing-library/user-event';

/** Picks an option of a @grafana/ui Select / MultiSelect by its input id, typing to filter it. */
export async function choose(user: UserEvent, inputId: string, text: string) {
  const input = document.getElementById(inputId) as HTMLInputElement;
  if (!input) {
    throw new Error(`no input #${inputId}`);
  }
  await user.click(input);
  await user.type(input, text);
  await user.keyboard('{Enter}');
}

/** Replaces the text of an input or text area in one change event. */
export function setText(element: HTMLElement, value: string) {
  act(() => {
    fireEvent.change(element, { target: { value } });
  });
}

/** Waits until `check` passes. */
export const eventually = (check: () => void) => waitFor(check);

/** Renders `render(value, onChange)` with the value held in state, and records every value. */
export function Stateful<T>(props: { initial: T; seen: T[]; render: (value: T, onChange: (v: T) => void) => React.ReactNode }) {
  const [value, setValue] = useState(props.initial);
  return (
    <>
      {props.render(value, (v) => {
        props.seen.push(v);
        setValue(v);
      })}
    </>
  );
}

