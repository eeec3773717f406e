// graphql-codegen for app teams: TypeScript types of the schema and of every contract operation, and the
// possibleTypes of its unions and interfaces for Apollo's InMemoryCache. Generates from the published
// contract (mobile_contract/schema.graphql and operations/); OUT names the folder (default: generated/).
import type { CodegenConfig } from "@graphql-codegen/cli";

const out = process.env.OUT ?? "generated";

const config: CodegenConfig = {
  schema: "../../../mobile_contract/schema.graphql",
  documents: ["../../../mobile_contract/operations/**/*.graphql"],
  generates: {
    [`${out}/types.ts`]: {
      plugins: ["typescript", "typescript-operations"],
      config: { enumsAsTypes: true, nonOptionalTypename: true, scalars: { DateTime: "string", JSON: "unknown" } },
    },
    [`${out}/possibleTypes.json`]: {
      plugins: ["fragment-matcher"],
      config: { apolloClientVersion: 3 },
    },
  },
};

export default config;
