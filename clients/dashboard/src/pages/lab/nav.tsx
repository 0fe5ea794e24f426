// Links inside the lab section (/dashboard/lab/…): client-side navigation, new tab with a modifier key.
import type { ComponentChildren } from "preact";
import { BASE, navigate } from "../../router.js";

export function LabLink(props: { to: string; children: ComponentChildren; current?: boolean }) {
  return (
    <a
      href={`${BASE}/${props.to}`}
      aria-current={props.current ? "page" : undefined}
      onClick={(e) => {
        if (e.ctrlKey || e.metaKey || e.shiftKey) return;
        e.preventDefault();
        navigate(props.to);
      }}
    >
      {props.children}
    </a>
  );
}
