/**
 * zod, pinned. Third-party code enters `src/` only through `src/deps/` because users import
 * parlab by URL, where deno.json's import map does not apply (so no bare specifiers), and one
 * file per package keeps each module's imports to what it uses.
 * @module
 */
export { z } from "npm:zod@4.6.7";
