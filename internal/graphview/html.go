package graphview

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
)

// WriteHTML writes one self-contained HTML page showing svg (a drawing
// of g, from SVG or GraphvizSVG): no network access, the drawing inline,
// the node data as inline JSON and a small inline script for wheel zoom,
// drag pan and a details panel for the node under the pointer (op, type,
// name, role, kind, inputs, attributes, device, fused group and source
// line).
func WriteHTML(w io.Writer, g *Graph, svg []byte) error {
	// Keep the <svg> element only: drop an XML declaration, DOCTYPE and
	// comments before it.
	if i := bytes.Index(svg, []byte("<svg")); i > 0 {
		svg = svg[i:]
	}
	data, err := json.Marshal(g)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
	fmt.Fprintf(&b, "<title>%s</title>\n", html.EscapeString(g.title()))
	b.WriteString("<style>\n" + viewerCSS + "</style>\n</head>\n<body>\n")
	fmt.Fprintf(&b, "<header><b>%s</b>%s <button id=\"fit\" type=\"button\">fit</button></header>\n", html.EscapeString(g.title()), legendHTML(g))
	b.WriteString("<main><div id=\"view\">\n")
	b.Write(svg)
	b.WriteString("</div>\n<aside id=\"panel\"><p class=\"hint\">Hover a node for its details. Wheel to zoom, drag to pan, double-click or \"fit\" to reset.</p></aside></main>\n")
	b.WriteString("<script type=\"application/json\" id=\"flow-graph\">")
	b.Write(data) // json.Marshal escapes <, > and &, so this cannot end the script
	b.WriteString("</script>\n<script>\n" + viewerJS + "</script>\n</body>\n</html>\n")
	_, err = w.Write(b.Bytes())
	return err
}

// legendHTML is the header's key to the colours and shapes.
func legendHTML(g *Graph) string {
	var b bytes.Buffer
	item := func(color, border, text string) {
		fmt.Fprintf(&b, ` <span class="key"><i style="background:%s;border-color:%s"></i>%s</span>`, color, border, html.EscapeString(text))
	}
	item(colorInput, colorOutline, "input")
	item(colorParam, colorOutline, "param")
	item(colorState, colorOutline, "optimizer state")
	item(colorConst, colorOutline, "constant")
	item(colorForward, colorOutline, "forward")
	item(colorGrad, colorOutline, "gradient")
	item(colorUpdate, colorOutline, "update")
	if len(g.Groups) > 0 {
		fmt.Fprintf(&b, ` <span class="key"><i style="background:none;border:1px dashed %s"></i>fused group</span>`, colorCluster)
	}
	for i, d := range g.Devices {
		item("#ffffff", DeviceColor(i), "device "+d)
	}
	return b.String()
}

const viewerCSS = `html,body{margin:0;height:100%;font:13px Helvetica,Arial,sans-serif;color:#222}
body{display:flex;flex-direction:column}
header{padding:6px 10px;border-bottom:1px solid #ccc;background:#fafafa}
header b{margin-right:10px}
.key{margin-right:8px;white-space:nowrap}
.key i{display:inline-block;width:12px;height:12px;border:1px solid;margin-right:3px;vertical-align:-2px}
main{flex:1;display:flex;min-height:0}
#view{flex:1;overflow:hidden;cursor:grab;background:#fff}
#view.drag{cursor:grabbing}
#view svg{width:100%;height:100%;display:block}
#panel{width:300px;overflow:auto;border-left:1px solid #ccc;padding:8px 10px;background:#fafafa}
#panel table{border-collapse:collapse}
#panel td{vertical-align:top;padding:2px 6px 2px 0;word-break:break-word}
#panel td:first-child{color:#666;white-space:nowrap}
.hint{color:#666}
g.node.hl>polygon,g.node.hl>rect,g.node.hl>path,g.node.hl>ellipse{stroke:#e0006c;stroke-width:3}
g.edge.hl>path{stroke:#e0006c;stroke-width:2}
`

const viewerJS = `(function(){
"use strict";
var data=JSON.parse(document.getElementById("flow-graph").textContent);
var byId={};data.nodes.forEach(function(n){byId[n.id]=n;});
var view=document.getElementById("view"),panel=document.getElementById("panel");
var svg=view.querySelector("svg");
if(!svg)return;
var vb0=svg.viewBox.baseVal;
var home=vb0&&vb0.width?{x:vb0.x,y:vb0.y,w:vb0.width,h:vb0.height}:{x:0,y:0,w:svg.getBBox().width,h:svg.getBBox().height};
svg.removeAttribute("width");svg.removeAttribute("height");
svg.setAttribute("preserveAspectRatio","xMidYMid meet");
var vb={x:home.x,y:home.y,w:home.w,h:home.h};
function apply(){svg.setAttribute("viewBox",vb.x+" "+vb.y+" "+vb.w+" "+vb.h);}
function fit(){vb={x:home.x,y:home.y,w:home.w,h:home.h};apply();}
// Points in the root element's user space: viewBox coordinates.
function rootPoint(cx,cy){var r=svg.getBoundingClientRect();var s=Math.max(vb.w/r.width,vb.h/r.height);
var ox=vb.x-(r.width*s-vb.w)/2,oy=vb.y-(r.height*s-vb.h)/2;return{x:ox+(cx-r.left)*s,y:oy+(cy-r.top)*s,s:s};}
view.addEventListener("wheel",function(e){e.preventDefault();
var p=rootPoint(e.clientX,e.clientY);var k=Math.exp((e.deltaY>0?1:-1)*Math.min(Math.abs(e.deltaY),100)/400);
vb.x=p.x-(p.x-vb.x)*k;vb.y=p.y-(p.y-vb.y)*k;vb.w*=k;vb.h*=k;apply();},{passive:false});
var drag=null;
view.addEventListener("pointerdown",function(e){if(e.button!==0)return;drag={x:e.clientX,y:e.clientY};view.classList.add("drag");view.setPointerCapture(e.pointerId);});
view.addEventListener("pointermove",function(e){if(!drag)return;var s=rootPoint(0,0).s;
vb.x-=(e.clientX-drag.x)*s;vb.y-=(e.clientY-drag.y)*s;drag={x:e.clientX,y:e.clientY};apply();});
function stop(){drag=null;view.classList.remove("drag");}
view.addEventListener("pointerup",stop);view.addEventListener("pointercancel",stop);
view.addEventListener("dblclick",fit);
document.getElementById("fit").addEventListener("click",fit);
var lit=[];
function unlight(){lit.forEach(function(el){el.classList.remove("hl");});lit=[];}
function light(el){if(el){el.classList.add("hl");lit.push(el);}}
function row(t,k,v){var tr=document.createElement("tr");var a=document.createElement("td");a.textContent=k;
var b=document.createElement("td");if(typeof v==="string")b.textContent=v;else b.appendChild(v);tr.appendChild(a);tr.appendChild(b);t.appendChild(tr);}
function ref(id){var n=byId[id];return "%"+id+(n&&n.name?" "+n.name:"")+(n?" ("+n.op+")":"");}
function show(n){panel.textContent="";var h=document.createElement("h3");h.textContent="%"+n.id+" "+n.op+(n.name?" "+n.name:"");panel.appendChild(h);
var t=document.createElement("table");
row(t,"op",n.op);if(n.name)row(t,"name",n.name);row(t,"shape",n.shape);row(t,"dtype",n.dtype);row(t,"kind",n.kind);row(t,"role",n.role);
if(n.kind==="param")row(t,"trainable",n.trainable?"yes":"no (optimizer state)");
if(n.inputs&&n.inputs.length){var ul=document.createElement("div");n.inputs.forEach(function(id){var d=document.createElement("div");d.textContent=ref(id);ul.appendChild(d);});row(t,"inputs",ul);}
var users=data.nodes.filter(function(m){return (m.inputs||[]).indexOf(n.id)>=0;});
if(users.length){var ud=document.createElement("div");users.forEach(function(m){var d=document.createElement("div");d.textContent=ref(m.id);ud.appendChild(d);});row(t,"used by",ud);}
if(n.attrs)row(t,"attrs",n.attrs);if(n.value)row(t,"value",n.value);if(n.device)row(t,"device",n.device);
if(n.group)row(t,"fused group",String(n.group));(n.marks||[]).forEach(function(m){row(t,"use",m);});
row(t,"source",n.line?(n.file||data.source)+":"+n.line+(n.col?":"+n.col:""):"(made by the compiler)");
panel.appendChild(t);}
view.addEventListener("mouseover",function(e){var g=e.target.closest?e.target.closest("g.node"):null;if(!g||drag)return;
var id=parseInt((g.id||"").replace(/^n/,""),10);var n=byId[id];if(!n)return;unlight();light(g);
svg.querySelectorAll("g.edge").forEach(function(el){var m=/^e(\d+)_(\d+)_/.exec(el.id);if(m&&(+m[1]===id||+m[2]===id)){light(el);var tr=el.getAttribute("data-trunk");var o=tr&&svg.querySelector('g.edge[id="'+tr+'"]');if(o)light(o);}});
show(n);});
fit();
})();
`
