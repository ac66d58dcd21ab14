"""Templates → documents: letters (PDF/A), emails (.eml), text messages and call sheets, and the legal lint.

Entry point: `relance_pipeline.render.renderer.Renderer` (imported from there, so that `validate`, which only
needs the lint, does not load WeasyPrint).
"""
