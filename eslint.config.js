import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

/**
 * Model output, tool results, escalation replies and catalog texts reach the widget from outside;
 * rendered as HTML they could run script in the host's page. They are rendered as text (React
 * children, textContent), so the HTML sinks are refused outright in shipped code.
 */
const AS_TEXT =
  'model output, tool results and host data must be rendered as text (React children, textContent), never parsed as HTML';
const noHtmlSinks = [
  {
    selector: 'JSXAttribute[name.name="dangerouslySetInnerHTML"]',
    message: `dangerouslySetInnerHTML: ${AS_TEXT}.`,
  },
  {
    selector:
      'AssignmentExpression > MemberExpression.left[property.name=/^(innerHTML|outerHTML)$/]',
    message: `Assigning innerHTML/outerHTML: ${AS_TEXT}.`,
  },
  {
    selector:
      'CallExpression[callee.property.name=/^(insertAdjacentHTML|createContextualFragment)$/]',
    message: `insertAdjacentHTML/createContextualFragment: ${AS_TEXT}.`,
  },
  {
    selector:
      'CallExpression[callee.object.name="document"][callee.property.name=/^(write|writeln)$/]',
    message: `document.write: ${AS_TEXT}.`,
  },
];

export default tseslint.config(
  {
    ignores: ['dist', 'node_modules', 'public', 'training', 'coverage', '.cache', 'test-results'],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
    },
  },
  { files: ['eslint.config.js', 'bin/*.js'], extends: [tseslint.configs.disableTypeChecked] },
  {
    // Example host scripts are served as they are (no build, no tsconfig): plain browser modules.
    files: ['examples/**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      globals: {
        document: 'readonly',
        fetch: 'readonly',
        location: 'readonly',
        URLSearchParams: 'readonly',
      },
    },
  },
  {
    files: ['src/**/*.{ts,tsx}', 'workers/**/*.ts', 'examples/**/*.{js,ts,tsx}'],
    rules: { 'no-restricted-syntax': ['error', ...noHtmlSinks] },
  },
);
