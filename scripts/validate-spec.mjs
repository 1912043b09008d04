// Validates the bundled documents against the OpenAPI 3.1 schema (redocly lint checks style and
// references; this checks the document is well-formed 3.1, which openapi-backend cannot).
import { Validator } from '@seriousme/openapi-schema-validator';

let failed = false;
for (const name of ['dockrev', 'supervisor']) {
  const validator = new Validator();
  const result = await validator.validate(`src/generated/${name}.openapi.json`);
  if (!result.valid) {
    failed = true;
    console.error(`${name}: not a valid OpenAPI ${validator.version} document`);
    console.error(JSON.stringify(result.errors, null, 2));
  } else {
    console.log(`${name}: valid OpenAPI ${validator.version}`);
  }
}
process.exit(failed ? 1 : 0);
