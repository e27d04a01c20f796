/**
 * react-custom-scrollbars-2 as @grafana/ui means it: its ES modules (`.mjs`) import the package's
 * default export, which esbuild reads the Node way from an `.mjs` file (the whole CommonJS
 * exports object); from TypeScript it takes `exports.default`, the component.
 */
import Scrollbars from 'react-custom-scrollbars-2';

export default Scrollbars;
