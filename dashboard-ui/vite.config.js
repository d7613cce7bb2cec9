// Builds the page into the Python package, so that `pip install` users get it without Node.js.
import { defineConfig } from "vite";

export default defineConfig({
  base: "/ui/",
  build: {
    outDir: "../reference/rolemodel_router/dashboard/static",
    emptyOutDir: true,
    chunkSizeWarningLimit: 300,
  },
});
