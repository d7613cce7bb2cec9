// Preact with htm: components in tagged templates, so the page needs no JSX compiler.
import { h } from "preact";
import htm from "htm";

export const html = htm.bind(h);
