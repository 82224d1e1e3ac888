# The web pages' view library (Preact, htm): pinned in WebAssets/vendor/vendor.json,
# fetched from the npm registry and checked at build time, never committed.
#
# hb_web_vendor(<manifest> <output root>) reads the manifest and adds one build step
# per package (scripts/fetch-web-vendor.sh: download or cache, SHA-256 check, the
# named files written under <output root>/WebAssets/vendor/). It sets, in the caller:
#   HB_WEB_VENDOR_FILES    the files, relative to <output root> ("WebAssets/vendor/preact/preact.js")
#   HB_WEB_VENDOR_OUTPUTS  the same, absolute (what the embedding step depends on)
function(hb_web_vendor manifest root)
  if(CMAKE_VERSION VERSION_LESS 3.19)
    message(FATAL_ERROR "Reading ${manifest} needs CMake 3.19 or newer (Debian bookworm has 3.25).")
  endif()
  # A changed manifest reconfigures (new file names, new steps).
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${manifest})
  file(READ ${manifest} json)
  string(JSON count ERROR_VARIABLE problem LENGTH "${json}" packages)
  if(problem)
    message(FATAL_ERROR "${manifest}: ${problem}")
  endif()
  set(script ${CMAKE_SOURCE_DIR}/scripts/fetch-web-vendor.sh)
  set(outdir ${root}/WebAssets/vendor)
  set(all_files)
  set(all_outputs)
  math(EXPR last "${count} - 1")
  foreach(i RANGE ${last})
    foreach(field name version tarball sha256)
      string(JSON ${field} ERROR_VARIABLE problem GET "${json}" packages ${i} ${field})
      if(problem OR "${${field}}" STREQUAL "")
        message(FATAL_ERROR "${manifest}: package ${i} has no \"${field}\" (${problem})")
      endif()
    endforeach()
    set(arguments --name ${name} --version ${version} --url ${tarball} --sha256 ${sha256} --out ${outdir})
    string(JSON nimports ERROR_VARIABLE problem LENGTH "${json}" packages ${i} imports)
    if(problem)
      set(nimports 0)
    endif()
    if(nimports GREATER 0)
      math(EXPR lastimport "${nimports} - 1")
      foreach(j RANGE ${lastimport})
        string(JSON specifier MEMBER "${json}" packages ${i} imports ${j})
        string(JSON path GET "${json}" packages ${i} imports ${specifier})
        list(APPEND arguments --import "${specifier}=${path}")
      endforeach()
    endif()
    string(JSON nfiles LENGTH "${json}" packages ${i} files)
    set(outputs)
    math(EXPR lastfile "${nfiles} - 1")
    foreach(j RANGE ${lastfile})
      string(JSON from MEMBER "${json}" packages ${i} files ${j})
      string(JSON to GET "${json}" packages ${i} files ${from})
      list(APPEND arguments "${from}=${to}")
      list(APPEND outputs ${outdir}/${to})
      list(APPEND all_files WebAssets/vendor/${to})
    endforeach()
    add_custom_command(
      OUTPUT ${outputs}
      COMMAND ${script} ${arguments}
      DEPENDS ${manifest} ${script}
      COMMENT "Fetching ${name} ${version} for the web pages and checking its SHA-256"
      VERBATIM)
    list(APPEND all_outputs ${outputs})
  endforeach()
  set(HB_WEB_VENDOR_FILES ${all_files} PARENT_SCOPE)
  set(HB_WEB_VENDOR_OUTPUTS ${all_outputs} PARENT_SCOPE)
endfunction()

# The staff's diagnostic viewer (OHIF): the manifest's "viewer" entry, a whole
# ready-built app folder of an npm package. hb_viewer_vendor(<manifest> <folder>)
# adds the target HospitalBridgeViewer (built by default) that fetches and checks
# the tarball and writes the package's folder to <folder>, served from disk by the
# plugin (never embedded). -DHB_FETCH_VIEWER=OFF leaves it out of the build.
function(hb_viewer_vendor manifest folder)
  file(READ ${manifest} json)
  foreach(field name version tarball sha256 tree)
    string(JSON ${field} ERROR_VARIABLE problem GET "${json}" viewer ${field})
    if(problem OR "${${field}}" STREQUAL "")
      message(FATAL_ERROR "${manifest}: \"viewer\" has no \"${field}\" (${problem})")
    endif()
  endforeach()
  set(script ${CMAKE_SOURCE_DIR}/scripts/fetch-web-vendor.sh)
  set(stamp ${folder}/.hospitalbridge-viewer.json)
  add_custom_command(
    OUTPUT ${stamp}
    COMMAND ${script} --name ${name} --version ${version} --url ${tarball} --sha256 ${sha256} --out ${folder}
            --tree ${tree}
    DEPENDS ${manifest} ${script}
    COMMENT "Fetching the viewer ${name} ${version} and checking its SHA-256"
    VERBATIM)
  add_custom_target(HospitalBridgeViewer ALL DEPENDS ${stamp})
endfunction()
