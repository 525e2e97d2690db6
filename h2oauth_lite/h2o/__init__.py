"""H2O AI Cloud: h2o-authn's TokenProvider, H2O Cloud discovery, h2oGPTe headers.

Built only on the public layers below (grants, cache, wire); ``auth/`` keeps
the import paths h2o-authn users type as thin re-exports of this folder.
"""
