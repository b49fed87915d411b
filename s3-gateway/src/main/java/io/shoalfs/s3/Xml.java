package io.shoalfs.s3;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.xml.sax.SAXException;
import org.xml.sax.helpers.DefaultHandler;

/**
 * The XML S3 speaks: a small writer for answers (elements and escaped text, in the S3
 * namespace) and a parser for the few request bodies that are XML (DeleteObjects,
 * CompleteMultipartUpload), with DTDs and external entities refused.
 */
final class Xml {
  static final String NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/";
  /** Request bodies that are XML are small lists; anything bigger is refused. */
  static final int MAX_REQUEST_BYTES = 4 << 20;

  private final StringBuilder out = new StringBuilder();

  private Xml() {}

  /** A document with root element {@code root} in S3's namespace, its content by {@code body}. */
  static String document(String root, Consumer<Xml> body) {
    return document(root, true, body);
  }

  /**
   * A document as above; {@code inNamespace} false for the error document, which S3 sends
   * without a namespace (and clients such as botocore only read it so).
   */
  static String document(String root, boolean inNamespace, Consumer<Xml> body) {
    Xml x = new Xml();
    x.out.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<").append(root);
    if (inNamespace) {
      x.out.append(" xmlns=\"").append(NAMESPACE).append('"');
    }
    x.out.append('>');
    body.accept(x);
    x.out.append("</").append(root).append('>');
    return x.out.toString();
  }

  Xml element(String name, String text) {
    out.append('<').append(name).append('>');
    escape(text);
    out.append("</").append(name).append('>');
    return this;
  }

  Xml element(String name, long value) {
    return element(name, Long.toString(value));
  }

  Xml element(String name, boolean value) {
    return element(name, Boolean.toString(value));
  }

  /** An element holding others. */
  Xml element(String name, Consumer<Xml> children) {
    out.append('<').append(name).append('>');
    children.accept(this);
    out.append("</").append(name).append('>');
    return this;
  }

  private void escape(String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '&' -> out.append("&amp;");
        case '"' -> out.append("&quot;");
        case '\'' -> out.append("&apos;");
        default -> {
          if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
            out.append("&#").append((int) c).append(';');
          } else {
            out.append(c);
          }
        }
      }
    }
  }

  /** Parses a request body; a body that is not XML is MalformedXML. */
  static Element parse(InputStream body) throws S3Exception {
    try {
      DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
      f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
      f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
      f.setExpandEntityReferences(false);
      f.setNamespaceAware(true);
      DocumentBuilder builder = f.newDocumentBuilder();
      // The default handler prints every parse error to stderr; the caller answers it instead.
      builder.setErrorHandler(new DefaultHandler());
      Document doc = builder.parse(body);
      return doc.getDocumentElement();
    } catch (ParserConfigurationException | SAXException | IOException e) {
      throw S3Errors.malformedXml(e.getMessage());
    }
  }

  /** The child elements of {@code parent} with local name {@code name}, in order. */
  static List<Element> children(Element parent, String name) {
    List<Element> found = new ArrayList<>();
    for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element e && name.equals(localName(e))) {
        found.add(e);
      }
    }
    return found;
  }

  /** The text of the first child element named {@code name}, or null if there is none. */
  static String childText(Element parent, String name) {
    List<Element> found = children(parent, name);
    return found.isEmpty() ? null : found.get(0).getTextContent().trim();
  }

  private static String localName(Element e) {
    return e.getLocalName() != null ? e.getLocalName() : e.getTagName();
  }
}
